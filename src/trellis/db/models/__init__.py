"""All ORM models, one module per aggregate. Importing this package registers every table."""

from trellis.db.models.audit import AuditEntry
from trellis.db.models.project import Project, ProjectLink
from trellis.db.models.setting import AppSetting
from trellis.db.models.user import ApiToken, LoginAttempt, Role, User, UserSession

__all__ = [
    "ApiToken",
    "AppSetting",
    "AuditEntry",
    "LoginAttempt",
    "Project",
    "ProjectLink",
    "Role",
    "User",
    "UserSession",
]
