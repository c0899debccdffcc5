"""The pipeline stages, one module each: parse, script, voice, align, slides, assemble."""
