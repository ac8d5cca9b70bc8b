"""What a person sees, from plain data: screens, the result report, the PDF and its workers."""
