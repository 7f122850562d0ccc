"""An admin who forgot their password: ask for a link by email, then choose a new password
(the pages are campaigns.notifications.reset_web's, shared with the dashboard's)."""

from __future__ import annotations

from campaigns.notifications.password_resets import ADMINS
from campaigns.notifications.reset_web import ResetPages

PAGES = ResetPages(
    area=ADMINS,
    forgot_template="console/forgot_password.html",
    reset_template="console/reset_password.html",
    login_route="console:login",
    language="en",
)

routes = PAGES.routes()
