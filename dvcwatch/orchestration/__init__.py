"""Runs the instruments: the monitoring stack, the demo, rehearsals, the embedded sandbox as a child
process, the bodies of `load` and `shop`. Commands call it; it calls the instruments and the core."""
