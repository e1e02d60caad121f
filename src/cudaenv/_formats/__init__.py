"""Pure parsers: text or bytes in, values out. No file access, no environment, no processes."""
