"""Writing the episode's script: the rules every spoken line follows, the faithfulness check of what a
model writes, the extractive writer, the show around the content and the length budget. Used by the
script stage; none of it imports a stage."""
