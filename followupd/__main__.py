import sys

from followupd.cli.app import main

sys.exit(main())
