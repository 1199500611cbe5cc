from confero.cli import main

main()
