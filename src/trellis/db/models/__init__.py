"""All ORM models, one module per aggregate. Importing this package registers every table."""

from trellis.db.models.audit import AuditEntry
from trellis.db.models.contact import (
    Company,
    Contact,
    ContactActivity,
    ContactCompany,
    ContactImport,
    ContactMerge,
    ContactTag,
    CustomField,
    DoNotContact,
    PointsChange,
    Stage,
    Tag,
)
from trellis.db.models.project import Project, ProjectLink
from trellis.db.models.segment import Segment, SegmentMember, SegmentMembershipChange
from trellis.db.models.setting import AppSetting
from trellis.db.models.user import ApiToken, LoginAttempt, Role, User, UserSession

__all__ = [
    "ApiToken",
    "AppSetting",
    "AuditEntry",
    "Company",
    "Contact",
    "ContactActivity",
    "ContactCompany",
    "ContactImport",
    "ContactMerge",
    "ContactTag",
    "CustomField",
    "DoNotContact",
    "LoginAttempt",
    "PointsChange",
    "Project",
    "ProjectLink",
    "Role",
    "Segment",
    "SegmentMember",
    "SegmentMembershipChange",
    "Stage",
    "Tag",
    "User",
    "UserSession",
]
