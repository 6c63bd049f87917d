"""`python -m peers` (from tools/bench): see main.py."""
import sys

from .main import main

sys.exit(main())
