"""The store's two records of its schema version checked against each other on open:
``stp_meta``'s ``schema_version`` and the rows of the ``schema_version`` table (one per
version the store was created at or upgraded to)."""

from ._integrity import schema_error


def check_version_records(where, version, recorded, newest):
    """Raise where the ``schema_version`` table's rows (``recorded``, the versions) do
    not agree with ``version`` (``stp_meta``'s), naming both values.

    A latest row other than ``version`` (or no row, or a row newer than ``newest``, the
    newest version this library knows) raises
    :class:`~sktraceprop.exceptions.CorruptStoreError` naming both values: ``version``
    was checked to be one this library reads, and every release writes both records in
    one transaction. Called before anything is written to the store.
    """
    try:
        recorded = sorted(int(v) for v in recorded)
    except (TypeError, ValueError):
        raise schema_error(
            f"{where} has {sorted(map(repr, recorded))} in its schema_version table while "
            f"its stp_meta table says schema version {version}: no version sktraceprop "
            "ever wrote, so it was altered outside sktraceprop. It was not modified.",
            f"schema_version table holds {sorted(map(repr, recorded))}",
        ) from None
    if recorded and recorded[-1] > newest:
        # stp_meta (checked first) holds a version this library reads; a newer release
        # writes its version to both records in one transaction, as every release has
        raise schema_error(
            f"{where} has schema version {recorded[-1]} in its schema_version table "
            f"while its stp_meta table says {version}; this sktraceprop reads up to "
            f"{newest}. sktraceprop (a newer release too) writes both records in one "
            "transaction, so one was altered outside sktraceprop. It was not modified.",
            f"schema_version table says {recorded[-1]}, stp_meta says {version}",
        )
    if not recorded or recorded[-1] != version:
        latest = recorded[-1] if recorded else "no version"
        raise schema_error(
            f"{where} has {latest} as the latest row of its schema_version table while "
            f"its stp_meta table says schema version {version}: the two records of its "
            "version disagree, so one was altered outside sktraceprop. It was not "
            "modified.",
            f"schema_version table says {latest}, stp_meta says {version}",
        )
