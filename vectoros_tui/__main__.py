from vectoros_tui.launch import main

main()
