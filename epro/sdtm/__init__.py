"""The SDTM submission package: DM, SV, CM, DS, QS, LB, VS, FA, their SUPP-- datasets and TS as SAS transport
v5 and Dataset-JSON 1.1, described by a define.xml 2.1. Written by `flask --app epro export --format sdtm -o DIR`;
the choices behind every variable are in epro/exports/README.md."""
