from appctl.cli.main import main

main()
