"""The SDTM submission package: DM, SV, QS, SUPPQS, TS (and LB, VS) as SAS transport v5 and Dataset-JSON 1.1,
described by a define.xml 2.1. Written by `flask --app epro export --format sdtm -o DIR`; the choices behind
every variable are in epro/exports/README.md."""
