"""Hypothesis strategies for hostile input: text a shell can pass (any character but NUL,
plus the lone surrogates Python makes of undecodable argv bytes), numbers far out of
range, near-miss dates, and "near-valid" option lists: valid values with one or two of
them swapped for hostile ones (random junk alone only ever reaches the first check)."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

# What Python makes of argv bytes that are not UTF-8 (os.fsdecode's surrogateescape).
undecodable = st.integers(0xDC80, 0xDCFF).map(chr)
_CONTROL = st.sampled_from(
    ["\x01", "\x07", "\x08", "\t", "\n", "\r", "\x1b", "\x1b[31m", "\x7f", "\x85", "\u2028"]
)
_ODD = st.sampled_from(
    [
        "\u200b",  # zero-width space
        "\u202e",  # right-to-left override
        "\ufeff",  # byte order mark
        "\u0301",  # combining accent
        "\U0001f4b0",  # emoji
        "\u00a0",  # no-break space
        "\u3000",  # ideographic space
        "\u0661\u0662",  # Arabic-Indic digits
        "\uff11",  # fullwidth 1
        "\u00bd",  # vulgar fraction one half
        "\u2164",  # Roman numeral five
        "ß",
        "İ",
        "[/bold]",  # Rich markup
        "{0}",  # a format field
        "%s",
        "'; DROP TABLE deals; --",
        "=cmd|' /C calc'!A0",  # a spreadsheet formula
    ]
)
_ANY_CHAR = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
# Letters, digits, punctuation, symbols and spaces: what a rep types into a field.
_TYPED = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x00")


def hostile_text() -> st.SearchStrategy[str]:
    """Text as it can arrive in argv: never NUL (a C string ends there)."""
    pieces = [_ANY_CHAR, _CONTROL, _ODD, undecodable]
    return st.one_of(
        st.text(_ANY_CHAR, max_size=30),
        st.lists(st.one_of(*pieces), max_size=12).map("".join),
        st.sampled_from(["", " ", "  \t ", "-", "--", "-1", "me", "all", "ME", "None", "null"]),
        st.integers(1, 3).map(lambda n: "x" * (200 * n + n - 1)),  # around the length limits
    )


argv_text = hostile_text()
# Text that is stored or searched: a lone surrogate once failed in the database driver
# (exit 1, a 500); it must be refused as not valid text.
stored_text = argv_text
typed_text = st.text(_TYPED, min_size=1, max_size=40).filter(str.strip)

huge_numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(10, 5000).map(lambda n: "9" * n),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "1e308",
            "1e309",
            "-1e309",
            "inf",
            "-inf",
            "nan",
            "NaN",
            "-0",
            "0x10",
            "1_000",
            "1,2,3",
            "(5)",
            "$",
            "k",
            "1kk",
            "1.2.3",
            "٣",
            "１２",
            "½",
            "1e-400",
            "99999999999999999999k",
            "9" * 4301,  # past Python's int() digit limit
        ]
    ),
)

odd_dates = st.one_of(
    st.dates().map(date.isoformat),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.tuples(st.integers(-5, 100_000), st.integers(-1, 13), st.integers(-1, 32)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
    ),
    st.sampled_from(
        [
            "0000-01-01",
            "0001-01-01",
            "1899-12-31",
            "1900-01-01",
            "2199-12-31",
            "2200-01-01",
            "9999-12-31",
            "10000-01-01",
            "2026-02-29",
            "2024-02-29",
            "2026-13-01",
            "2026-1-1",
            "01/02/2026",
            "31/12/2026",
            "2026-01-01T25:00",
            "2026-01-01T00:00:00+25:00",
            "2026-01-01T00:00:00Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "today",
            "tomorrow",
            "next week",
            "   ",
        ]
    ),
    argv_text,
)
plausible_dates = st.dates(date(2000, 1, 1), date(2100, 12, 31)).map(date.isoformat)
past_dates = st.dates(date(2000, 1, 1), date(2020, 12, 31)).map(date.isoformat)

amounts = st.one_of(
    st.integers(0, 10**9).map(str),
    st.integers(0, 10**7).map(lambda n: f"${n:,}.50"),
    st.sampled_from(["750k", "1.2M", "1 200", "0", "99.99"]),
)
odd_amounts = st.one_of(huge_numbers, argv_text)
STAGES = [
    "prospect",
    "qualified",
    "proposal",
    "negotiation",
    "closed",
    "lead",
    "won",
    "lost",
    "closed_won",
    "closed_lost",
    "Closed Won",
    "PROPOSAL",
    " proposal ",
    "closed-won",
]
odd_counts = st.one_of(st.integers(-(2**64), 2**64).map(str), huge_numbers, argv_text)

Field = tuple[st.SearchStrategy[str], st.SearchStrategy[str]]  # (valid, hostile)


def near_valid(
    spec: dict[str, Field], required: tuple[str, ...] = (), *, mutations: int = 2
) -> st.SearchStrategy[list[str]]:
    """Options of ``spec`` as argv: the required ones and a random subset of the others
    with valid values, then up to ``mutations`` of them given a hostile value or (required
    ones) left out; in random order, written ``--name value`` or ``--name=value``."""

    @st.composite
    def build(draw: st.DrawFn) -> list[str]:
        chosen = {name: draw(spec[name][0]) for name in required}
        optional = [name for name in spec if name not in required]
        for name in draw(st.lists(st.sampled_from(optional), unique=True)):
            chosen[name] = draw(spec[name][0])
        for name in draw(st.lists(st.sampled_from(list(spec)), unique=True, max_size=mutations)):
            if name in required and draw(st.booleans()):
                del chosen[name]
            else:
                chosen[name] = draw(spec[name][1])
        pairs = draw(st.permutations(list(chosen.items())))
        inline = draw(st.booleans())
        argv: list[str] = []
        for name, value in pairs:
            argv.extend([f"{name}={value}"] if inline else [name, value])
        return argv

    return build()
