"""How many BenchTick events `count_tick` has processed (read by GET /events/count)."""

count = 0
