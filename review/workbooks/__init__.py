"""Every reviewer's file, through one base (``base``): read by header, append by study, back up, never
write what could not be read safely. One module per file: duplicates, screening, extraction, consensus,
findings."""
