"""slagate: is this build fast and reliable enough to start a canary rollout, and how carefully?"""

__version__ = "0.1.0"
