"""A patient's right of access: everything held about one patient, as a PDF or a FHIR Bundle."""
