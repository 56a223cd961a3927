"""The name feature lineage gives the target among the inputs of a feature."""

#: The name feature lineage gives the target (``y`` given to ``fit``) among the input
#: columns of an output computed from it. No input column may have this name.
TARGET = "<target>"
