"""The questionnaire-session lifecycle and the answer rules, whichever way an answer arrives.

A visit's questionnaires are answered in one session: started (or resumed) for the tablet, drafted one
item at a time, paused or locked, and submitted all at once; or entered by staff on the patient's behalf;
a submitted answer may later be corrected. The tablet (epro.kiosk) and the staff screens (epro.staff) are
views over these modules:

- errors: what a change refuses, as named exceptions the views turn into messages.
- steps: the screens of a visit's questionnaires, one per item.
- sessions: start, resume, pause, lock, language, and the session of a visit.
- answers: drafts, submit, staff entry, correction.
- patient_mode: what the tablet's cookie holds while a patient has it.

The session states are epro.codes.SessionState, beside every other stored code.
"""
