"""Adapters that put reference libraries (Surprise, LightFM, implicit) behind the movierec model contract."""
