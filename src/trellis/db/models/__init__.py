"""All ORM models, one module per aggregate. Importing this package registers every table."""

from trellis.db.models.asset import Asset, AssetDownload
from trellis.db.models.audit import AuditEntry
from trellis.db.models.broadcast import Broadcast, BroadcastRecipient, BroadcastSegment
from trellis.db.models.campaign import (
    Campaign,
    CampaignEvent,
    CampaignIntakeRange,
    CampaignLease,
    CampaignMember,
    CampaignPublishPeriod,
    CampaignSource,
    ContactEvent,
    EventLog,
    EventStats,
)
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
from trellis.db.models.email import (
    ContactEmailSettings,
    Email,
    EmailSend,
    EmailVersion,
    OutboxMessage,
)
from trellis.db.models.form import Form, FormSubmission
from trellis.db.models.notification import Notification
from trellis.db.models.page import Page
from trellis.db.models.portability import CampaignImport
from trellis.db.models.privacy import CleanupRun, Consent, RetentionPolicySetting, Suppression
from trellis.db.models.project import Project, ProjectLink
from trellis.db.models.segment import Segment, SegmentMember, SegmentMembershipChange
from trellis.db.models.setting import AppSetting
from trellis.db.models.tracking import (
    ContactCategoryOptOut,
    EmailCategory,
    EmailLink,
    EmailSendLink,
    EmailSendTracking,
    EmailStats,
    TrackingHit,
)
from trellis.db.models.user import ApiToken, LoginThrottle, Role, User, UserSession
from trellis.db.models.web import PageHit, WebVisitor

__all__ = [
    "ApiToken",
    "AppSetting",
    "Asset",
    "AssetDownload",
    "AuditEntry",
    "Broadcast",
    "BroadcastRecipient",
    "BroadcastSegment",
    "Campaign",
    "CampaignEvent",
    "CampaignImport",
    "CampaignIntakeRange",
    "CampaignLease",
    "CampaignMember",
    "CampaignPublishPeriod",
    "CampaignSource",
    "CleanupRun",
    "Company",
    "Consent",
    "Contact",
    "ContactActivity",
    "ContactCategoryOptOut",
    "ContactCompany",
    "ContactEmailSettings",
    "ContactEvent",
    "ContactImport",
    "ContactMerge",
    "ContactTag",
    "CustomField",
    "DoNotContact",
    "Email",
    "EmailCategory",
    "EmailLink",
    "EmailSend",
    "EmailSendLink",
    "EmailSendTracking",
    "EmailStats",
    "EmailVersion",
    "EventLog",
    "EventStats",
    "Form",
    "FormSubmission",
    "LoginThrottle",
    "Notification",
    "OutboxMessage",
    "Page",
    "PageHit",
    "PointsChange",
    "Project",
    "ProjectLink",
    "RetentionPolicySetting",
    "Role",
    "Segment",
    "SegmentMember",
    "SegmentMembershipChange",
    "Stage",
    "Suppression",
    "Tag",
    "TrackingHit",
    "User",
    "UserSession",
    "WebVisitor",
]
