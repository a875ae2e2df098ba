"""``python -m lumos.envs.webshop {play,scripted,reward} --data_dir D ...`` (see ``commands``)."""

import sys

from lumos.envs.webshop.commands import main

if __name__ == "__main__":
    sys.exit(main())
