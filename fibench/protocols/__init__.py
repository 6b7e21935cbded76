"""MPC protocols on shares: sharing, arithmetic (Beaver), truncation, comparison, argmax."""
