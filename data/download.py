"""``python -m data.download [--only NAME] [--list]``: released annotations (``ai2lumos/*``), raw benchmark files
and eval files into the original layout. Logic: ``lumos.conversion.download``.

    python -m data.download --only raw
"""

import sys

from lumos.conversion.download import main

if __name__ == "__main__":
    sys.exit(main())
