"""Build step of ``pip install``: compiles the models' kernels (``models/kernels/_native.pyx``).

Everything else lives in pyproject.toml. The extension is required: it is the only implementation
of the svd, svdpp, baseline, k-NN, EASE, iALS, SLIM and bpr/warp/logistic kernels (there is no numba
fallback), so a failed build fails the install with the compiler's error. It needs a C++ compiler;
in a source checkout, ``python setup.py build_ext --inplace`` builds it next to the sources.
``MOVIEREC_PORTABLE_BUILD=1`` drops ``-march=native`` (for wheels meant for other machines).
"""

import os
import sys

from setuptools import Extension, setup

flags = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fassociative-math", "-fno-signed-zeros"]
if sys.platform == "win32":
    flags = ["/O2", "/fp:fast"]
elif os.environ.get("MOVIEREC_PORTABLE_BUILD", "") in ("", "0"):
    flags.append("-march=native")

try:
    from Cython.Build import cythonize
except ImportError:  # building from an sdist that already carries the generated C++
    ext_modules = [
        Extension(
            "movierec.models.kernels._native",
            ["src/movierec/models/kernels/_native.cpp"],
            extra_compile_args=flags,
            language="c++",
        )
    ]
else:
    ext_modules = cythonize(
        [
            Extension(
                "movierec.models.kernels._native",
                ["src/movierec/models/kernels/_native.pyx"],
                extra_compile_args=flags,
                language="c++",
                )
        ],
        compiler_directives={"language_level": 3},
        quiet=True,
    )

setup(ext_modules=ext_modules)
