"""A member who forgot their password: ask for a link by email, then choose a new password
(the pages are campaigns.notifications.reset_web's, shared with the console's)."""

from __future__ import annotations

from campaigns.notifications.password_resets import MEMBERS
from campaigns.notifications.reset_web import ResetPages

PAGES = ResetPages(
    area=MEMBERS,
    forgot_template="dashboard/forgot_password.html",
    reset_template="dashboard/reset_password.html",
    login_route="dashboard:login",
)

routes = PAGES.routes()
