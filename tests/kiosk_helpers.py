"""Driving the tablet through the test client, as a nurse and then a patient would."""

from __future__ import annotations

from flask.testing import FlaskClient

from epro.models import Visit
from tests.conftest import World, csrf_of, sign_in, token_of


class Tablet:
    """One browser (cookie jar) on a clinic tablet."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""
        self.token = ""

    def start(self, nurse: str, visit_id: int) -> None:
        """A nurse signs in and hands the tablet over for this visit."""
        assert sign_in(self.client, nurse).status_code == 302
        home = self.client.get("/staff/")
        response = self.client.post(
            f"/staff/visits/{visit_id}/tablet", data={"csrf_token": csrf_of(home.text)}
        )
        assert response.status_code == 302, response.text
        page = self.client.get("/tablet/", follow_redirects=True)
        self.csrf, self.token = csrf_of(page.text), token_of(page.text)

    def post(self, path: str, **data: str):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={"csrf_token": self.csrf, "token": self.token, **data})

    def choose_language(self, language: str):  # type: ignore[no-untyped-def]
        return self.post("/tablet/language", language=language)

    def answer(self, number: int, value: int | str):  # type: ignore[no-untyped-def]
        return self.post(f"/tablet/question/{number}", value=str(value))

    def submit(self):  # type: ignore[no-untyped-def]
        return self.post("/tablet/submit")

    def complete(self, language: str = "ko", values: tuple[int, int, int] = (70, 5, 6)):  # type: ignore[no-untyped-def]
        self.choose_language(language)
        for number, value in enumerate(values, start=1):
            self.answer(number, value)
        return self.submit()


def handed_over(world: World, client: FlaskClient) -> tuple[Tablet, Visit]:
    """A nurse (nurse1) hands the tablet over for a new patient's baseline visit."""
    world.staff()
    visit = world.visit(world.patient(), "BL")
    tablet = Tablet(client)
    tablet.start("nurse1", visit.id)
    return tablet, visit
