"""The judge stage: gates, comparisons with the baseline, sequential looks, the verdict and the rollback rules;
values only."""
