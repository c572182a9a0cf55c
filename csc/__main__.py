import sys

from csc.cli import main

sys.exit(main())
