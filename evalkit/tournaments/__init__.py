"""Tournaments and rankings over models: Competitive Swiss-System Dynamics, Bradley-Terry, Elo, live Swiss pairing."""
