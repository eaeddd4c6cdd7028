"""Pure statistics over arrays, one topic a module: `intervals` (the interval and method values), `quantiles`,
`counts`, `resampling` and `runs`."""
