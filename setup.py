import re
from pathlib import Path

from glob import glob

from setuptools import find_namespace_packages, setup

version = re.search(r'__version__ = "([^"]+)"', Path("mrcnn_tools/__init__.py").read_text()).group(1)

setup(
    name="mrcnn-tools",
    version=version,
    description="Predict CpG methylation levels from DNA sequence with MRCNN (Tian et al. 2019)",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    # the layers (calls, genome, data, models, ...) are namespace packages: only mrcnn_tools.motifs has an
    # __init__ of its own (it keeps 0.1's import path); docs/FORMATS.md §5 draws the layers
    packages=find_namespace_packages(include=["mrcnn_tools", "mrcnn_tools.*"], exclude=["*.__pycache__"]),
    python_requires=">=3.9",
    install_requires=[
        "numpy>=1.23",
        "pandas>=1.5",
        "pyfaidx>=0.7",
        "biopython>=1.80",
        "scikit-learn>=1.2",
        # k-mer GBR models are skops files (no pickle); 0.13 has the fixes of its 2025 advisories
        "skops>=0.13",
        # --threads limits the NumPy/BLAS and OpenMP pools through it (backend.set_threads)
        "threadpoolctl>=2.0",
        "pybigtools>=0.2",
        "tqdm",
        "pyjaspar>=3",
        "logomaker>=0.8",
        "tensorflow>=2.16",
        # Keras safe mode (no code from model files) had bypasses fixed up to 3.12
        "keras>=3.12",
        "matplotlib>=3.5",
        # mrcnn-predict --variants reads VCF/BCF (plain or bgzip) through it
        "pysam>=0.22",
    ],
    extras_require={
        # Tomtom matching in mrcnn-filters2meme (--jaspar, --motif-db) and its --method modisco; both are on
        # PyPI only
        "motifs": ["memelite>=0.5", "modisco-lite>=2.2"],
        "test": ["pytest>=7", "argparse-manpage>=4", "memelite>=0.5", "jinja2", "pyyaml", "ruff>=0.6", "hypothesis>=6"],
        "man": ["argparse-manpage>=4"],
    },
    # man pages are built from the parsers by man/build.sh (make man) and installed with the package
    data_files=[("share/man/man1", sorted(glob("man/*.1")))],
    entry_points={
        "console_scripts": [
            "mrcnn-encode=mrcnn_tools.cli.encode:main",
            "mrcnn-train=mrcnn_tools.cli.train:main",
            "mrcnn-predict=mrcnn_tools.cli.predict:main",
            "mrcnn-eval=mrcnn_tools.cli.evaluate:main",
            "mrcnn-filters2meme=mrcnn_tools.cli.filters2meme:main",
        ]
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Bio-Informatics",
    ],
)
