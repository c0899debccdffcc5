from mediagen.cli import main

main()
