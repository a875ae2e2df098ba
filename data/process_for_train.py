"""``python -m data.process_for_train``: converted annotations -> training files (original flags kept).

``--domain maths|complex_qa|web_agent``, ``--formulation lumos_iterative|lumos_onetime|cot|direct|integrated``,
``--unified maths,complex_qa,web_agent``, plus ``--converted_dir``, ``--raw_dir``, ``--output_dir``, ``--data_root``.
Logic: ``lumos.conversion.to_train``.

    python -m data.process_for_train --domain maths --formulation lumos_iterative
"""

import sys

from lumos.conversion.to_train import main

if __name__ == "__main__":
    sys.exit(main())
