"""Tunable defaults of fibench, in one place."""

#: fractional bits of the fixed-point encoding (reals x are stored as round(x * 2**FRAC_BITS) mod 2**64)
FRAC_BITS = 16
#: allowed range of ``frac_bits``
FRAC_BITS_MIN, FRAC_BITS_MAX = 0, 30
#: largest |raw| fixed-point integer accepted by ``encode``: the top two bits of the ring stay
#: free so that x - y never overflows and dealer truncation (which adds 2**62) stays exact.
MAX_RAW = 2**62 - 1
#: allowed number of compute parties
MIN_PARTIES, MAX_PARTIES = 2, 16
#: default secure-comparison protocol
COMPARISON_PROTOCOL = "a2b"
