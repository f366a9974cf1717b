"""Local HTTP emulators of the vendor APIs, serving vendor-shaped JSON from a dataset directory."""
