"""paperbot: daily paper digests, a searchable paper archive and shared reading lists for Slack."""

import os

# One BLAS thread: the sentence encoder's matrix products are the only heavy BLAS work, and on the two cores a
# bot gets, a second BLAS thread competes with the request threads (and with itself under load: measured 3-8x
# slower). Set before numpy is first imported; an operator's own setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
