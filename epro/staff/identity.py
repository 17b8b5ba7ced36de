"""The signed-in staff member as Flask-Login sees it: a plain snapshot, not a live database row."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import LoginManager, UserMixin

from epro import db
from epro.audit import Actor
from epro.models import StaffUser
from epro.staff import sessions

login_manager = LoginManager()


@dataclass(frozen=True)
class StaffIdentity(UserMixin):
    id: int
    username: str
    role: str
    preferred_language: str

    @classmethod
    def of(cls, user: StaffUser) -> StaffIdentity:
        assert user.id is not None
        return cls(user.id, user.username, user.role, user.preferred_language)

    def get_id(self) -> str:
        return str(self.id)

    @property
    def actor(self) -> Actor:
        return Actor("staff", self.id, self.username)


@login_manager.user_loader
def load_staff(user_id: str) -> StaffIdentity | None:
    if not user_id.isdigit():
        return None
    user = db.session().get(StaffUser, int(user_id))
    if user is None or not user.is_active or not sessions.is_current(user):
        return None
    return StaffIdentity.of(user)
