"""mrcnn-tools: predict CpG methylation levels from DNA sequence with MRCNN (Tian et al. 2019)."""

__version__ = "0.2.0"
