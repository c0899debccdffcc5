"""Engines (LLM, TTS) behind small base classes and a registry; heavy imports happen inside them."""
