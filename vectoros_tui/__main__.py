from vectoros_tui.cli import main

main()
