import {
  Button,
  Header,
  HeaderGlobalAction,
  HeaderGlobalBar,
  HeaderMenuButton,
  HeaderName,
  HeaderPanel,
  SideNav,
  SideNavDivider,
  SideNavItems,
  SideNavLink,
  SideNavMenu,
  SideNavMenuItem,
  SkipToContent,
} from "@carbon/react";
import {
  Application,
  Dashboard,
  Document,
  DocumentDownload,
  Email,
  Enterprise,
  Flow,
  Folders,
  Group,
  Notification as Bell,
  Policy,
  Settings,
  UserAvatar,
  UserMultiple,
} from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { Suspense, useEffect, useRef, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import "../campaigns/views/views.scss";
import { formatDateTime, PageLoading } from "./common";
import { can, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useToast } from "./Toasts";

const CAMPAIGNS = RESOURCES.campaigns;
// Emails, and the outbox, which shows what emails would send.
const EMAILS = RESOURCES.emails;

/** How often the unread count refreshes: a paused campaign should not wait for a reload. */
const NOTIFICATIONS_POLL_MS = 30_000;
const notificationsKey = ["notifications"] as const;

/** The unread count on the bell, and the panel of the user's notifications. */
function useNotifications(open: boolean) {
  const unread = useQuery({
    queryKey: [...notificationsKey, "unread-count"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/notifications", { params: { query: { unread: true, "page[size]": 1 } } })).meta.total,
    refetchInterval: NOTIFICATIONS_POLL_MS,
  });
  const list = useQuery({
    queryKey: [...notificationsKey, "list"],
    queryFn: async () => ok(await api.GET("/api/v2/notifications", { params: { query: { "page[size]": 20 } } })),
    enabled: open,
    placeholderData: keepPreviousData,
  });
  return { unread, list };
}

function NotificationsPanel({ open, onClose }: { open: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { notify } = useToast();
  const { list } = useNotifications(open);
  const items = list.data?.data ?? [];
  const refresh = () => queryClient.invalidateQueries({ queryKey: notificationsKey });
  async function openItem(id: number, link: string | null | undefined, read: boolean) {
    try {
      if (!read)
        ok(
          await api.POST("/api/v2/notifications/{notification_id}/read", { params: { path: { notification_id: id } } }),
        );
    } catch (e) {
      notify("error", "Could not mark as read", describeError(e));
    }
    void refresh();
    // Only paths inside the app are followed: a link is never an outside address.
    if (link && link.startsWith("/") && !link.startsWith("//")) {
      onClose();
      void navigate(link);
    }
  }
  async function readAll() {
    try {
      ok(await api.POST("/api/v2/notifications/read-all"));
      void refresh();
    } catch (e) {
      notify("error", "Could not mark as read", describeError(e));
    }
  }
  if (!open) return null;
  return (
    <div className="trellis-notifications">
      <div className="trellis-notifications__head">
        <strong>Notifications</strong>
        <Button kind="ghost" size="sm" onClick={() => void readAll()} disabled={!items.some((n) => !n.read_at)}>
          Mark all as read
        </Button>
      </div>
      {list.isPending ? <p className="trellis-notifications__head">Loading…</p> : null}
      {list.isError ? <p className="trellis-notifications__head">{describeError(list.error)}</p> : null}
      {list.data && items.length === 0 ? <p className="trellis-notifications__head">No notifications.</p> : null}
      <ul className="trellis-notifications__list" aria-label="Notifications">
        {items.map((n) => (
          <li key={n.id} className={n.read_at ? undefined : "trellis-notification--unread"}>
            <button type="button" onClick={() => void openItem(n.id, n.link, n.read_at !== null)}>
              <strong>{n.title}</strong>
              {n.read_at ? null : <span className="cds--visually-hidden"> (unread)</span>}
              {n.body ? <span className="trellis-notification__body">{n.body}</span> : null}
              <span className="trellis-notification__time">{formatDateTime(n.created_at)}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function AppShell() {
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const { notify } = useToast();
  const [userMenuOpen, setUserMenuOpen] = useState(false);
  const [bellOpen, setBellOpen] = useState(false);
  const panelRef = useRef<HTMLDivElement>(null);
  const bellRef = useRef<HTMLDivElement>(null);
  const { unread } = useNotifications(false);
  const unreadCount = unread.data ?? 0;

  // Moving to another page closes the menus (adjusted during render, not in an effect).
  const [menusPath, setMenusPath] = useState(location.pathname);
  if (menusPath !== location.pathname) {
    setMenusPath(location.pathname);
    setUserMenuOpen(false);
    setBellOpen(false);
  }
  useEffect(() => {
    if (!userMenuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setUserMenuOpen(false);
    };
    window.addEventListener("keydown", onKey);
    panelRef.current?.querySelector<HTMLElement>("button")?.focus();
    return () => window.removeEventListener("keydown", onKey);
  }, [userMenuOpen]);
  useEffect(() => {
    if (!bellOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setBellOpen(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [bellOpen]);

  const path = location.pathname;
  // Below Carbon's large breakpoint the side menu is a hamburger; it closes on every navigation.
  const [navOpen, setNavOpen] = useState(false);
  const [navPath, setNavPath] = useState(path);
  if (navPath !== path) {
    setNavPath(path);
    setNavOpen(false);
  }
  const active = (prefix: string) => (prefix === "/" ? path === "/" : path === prefix || path.startsWith(`${prefix}/`));
  const showSettingsMenu =
    canView(me, RESOURCES.settings) ||
    canView(me, RESOURCES.fields) ||
    canView(me, RESOURCES.stages) ||
    canView(me, RESOURCES.contacts);
  const settingsActive = active("/settings") || active("/stages") || active("/tags");
  // Every user has the Administration group: it holds their own API tokens.
  const showAdmin = me !== null;

  async function onLogout() {
    await logout().catch(() => notify("error", "Logout failed"));
    void navigate("/login", { replace: true });
  }

  return (
    <>
      <Header aria-label="Trellis">
        <SkipToContent href="#main-content" />
        <HeaderMenuButton
          aria-label={navOpen ? "Close menu" : "Open menu"}
          isActive={navOpen}
          aria-expanded={navOpen}
          onClick={() => setNavOpen((open) => !open)}
        />
        <HeaderName as={Link} to="/" prefix="">
          Trellis
        </HeaderName>
        <HeaderGlobalBar>
          <HeaderGlobalAction
            aria-label={unreadCount ? `Notifications, ${unreadCount} unread` : "Notifications"}
            aria-expanded={bellOpen}
            isActive={bellOpen}
            className="trellis-bell"
            onClick={() => {
              setUserMenuOpen(false);
              setBellOpen((o) => !o);
            }}
            tooltipAlignment="end"
          >
            <Bell size={20} />
            {unreadCount ? (
              <span className="trellis-bell__count" aria-hidden="true">
                {unreadCount > 99 ? "99+" : unreadCount}
              </span>
            ) : null}
          </HeaderGlobalAction>
          <HeaderGlobalAction
            aria-label={me ? `User menu for ${me.user.name || me.user.email}` : "User menu"}
            aria-expanded={userMenuOpen}
            isActive={userMenuOpen}
            onClick={() => {
              setBellOpen(false);
              setUserMenuOpen((o) => !o);
            }}
            tooltipAlignment="end"
          >
            <UserAvatar size={20} />
          </HeaderGlobalAction>
        </HeaderGlobalBar>
        <HeaderPanel expanded={bellOpen} aria-label="Notifications panel" ref={bellRef}>
          <NotificationsPanel open={bellOpen} onClose={() => setBellOpen(false)} />
        </HeaderPanel>
        <HeaderPanel expanded={userMenuOpen} aria-label="User menu" ref={panelRef}>
          {userMenuOpen && me ? (
            <div style={{ padding: "1rem", display: "flex", flexDirection: "column", gap: "0.75rem" }}>
              <div>
                <strong>{me.user.name || me.user.email}</strong>
                <div className="trellis-muted">{me.user.email}</div>
                <div className="trellis-muted">Role: {me.role.name}</div>
              </div>
              <Button kind="secondary" size="md" onClick={() => void navigate("/admin/tokens")}>
                My API tokens
              </Button>
              <Button kind="primary" size="md" onClick={() => void onLogout()}>
                Log out
              </Button>
            </div>
          ) : null}
        </HeaderPanel>
      </Header>
      <SideNav
        aria-label="Main navigation"
        expanded={navOpen}
        isPersistent
        isChildOfHeader={false}
        onOverlayClick={() => setNavOpen(false)}
        className="trellis-sidenav"
      >
        <SideNavItems>
          <SideNavLink as={NavLink} to="/" end renderIcon={Dashboard} isActive={active("/")}>
            Dashboard
          </SideNavLink>
          {canView(me, RESOURCES.contacts) ? (
            <SideNavMenu title="Contacts" renderIcon={UserMultiple} defaultExpanded isActive={active("/contacts")}>
              <SideNavMenuItem
                as={NavLink}
                to="/contacts"
                end
                isActive={path === "/contacts" || /^\/contacts\/\d+/.test(path)}
              >
                All contacts
              </SideNavMenuItem>
              {canView(me, RESOURCES.imports) || can(me, RESOURCES.imports, "create") ? (
                <SideNavMenuItem as={NavLink} to="/contacts/import" isActive={active("/contacts/import")}>
                  Import
                </SideNavMenuItem>
              ) : null}
            </SideNavMenu>
          ) : null}
          {canView(me, RESOURCES.segments) ? (
            <SideNavLink as={NavLink} to="/segments" renderIcon={Group} isActive={active("/segments")}>
              Segments
            </SideNavLink>
          ) : null}
          {canView(me, CAMPAIGNS) ? (
            <SideNavMenu title="Campaigns" renderIcon={Flow} defaultExpanded isActive={active("/campaigns")}>
              <SideNavMenuItem
                as={NavLink}
                to="/campaigns"
                end
                isActive={active("/campaigns") && !active("/campaigns/import")}
              >
                All campaigns
              </SideNavMenuItem>
              {can(me, CAMPAIGNS, "create") ? (
                <SideNavMenuItem as={NavLink} to="/campaigns/import" isActive={active("/campaigns/import")}>
                  Import
                </SideNavMenuItem>
              ) : null}
            </SideNavMenu>
          ) : null}
          {canView(me, EMAILS) ? (
            <SideNavMenu
              title="Emails"
              renderIcon={Email}
              defaultExpanded
              isActive={active("/emails") || active("/broadcasts") || active("/outbox")}
            >
              <SideNavMenuItem as={NavLink} to="/emails" isActive={active("/emails")}>
                Emails
              </SideNavMenuItem>
              <SideNavMenuItem as={NavLink} to="/broadcasts" isActive={active("/broadcasts")}>
                Broadcasts
              </SideNavMenuItem>
              <SideNavMenuItem as={NavLink} to="/outbox" isActive={active("/outbox")}>
                Outbox
              </SideNavMenuItem>
            </SideNavMenu>
          ) : null}
          {canView(me, RESOURCES.forms) ? (
            <SideNavLink as={NavLink} to="/forms" renderIcon={Document} isActive={active("/forms")}>
              Forms
            </SideNavLink>
          ) : null}
          {canView(me, RESOURCES.pages) ? (
            <SideNavLink as={NavLink} to="/landing-pages" renderIcon={Application} isActive={active("/landing-pages")}>
              Landing pages
            </SideNavLink>
          ) : null}
          {canView(me, RESOURCES.assets) ? (
            <SideNavLink as={NavLink} to="/assets" renderIcon={DocumentDownload} isActive={active("/assets")}>
              Assets
            </SideNavLink>
          ) : null}
          {canView(me, RESOURCES.companies) ? (
            <SideNavLink as={NavLink} to="/companies" renderIcon={Enterprise} isActive={active("/companies")}>
              Companies
            </SideNavLink>
          ) : null}
          {canView(me, RESOURCES.projects) ? (
            <SideNavLink as={NavLink} to="/projects" renderIcon={Folders} isActive={active("/projects")}>
              Projects
            </SideNavLink>
          ) : null}
          {canView(me, RESOURCES.audit) ? (
            <SideNavLink as={NavLink} to="/audit-log" renderIcon={Policy} isActive={active("/audit-log")}>
              Audit log
            </SideNavLink>
          ) : null}
          {showSettingsMenu ? (
            <SideNavMenu
              title="Settings"
              renderIcon={Settings}
              defaultExpanded={settingsActive}
              isActive={settingsActive}
            >
              {canView(me, RESOURCES.settings) ? (
                <SideNavMenuItem as={NavLink} to="/settings" end isActive={path === "/settings"}>
                  General
                </SideNavMenuItem>
              ) : null}
              {canView(me, RESOURCES.fields) || canView(me, RESOURCES.contacts) ? (
                <SideNavMenuItem as={NavLink} to="/settings/fields" isActive={active("/settings/fields")}>
                  Custom fields
                </SideNavMenuItem>
              ) : null}
              {canView(me, RESOURCES.stages) || canView(me, RESOURCES.contacts) ? (
                <SideNavMenuItem as={NavLink} to="/stages" isActive={active("/stages")}>
                  Stages
                </SideNavMenuItem>
              ) : null}
              {canView(me, RESOURCES.contacts) ? (
                <SideNavMenuItem as={NavLink} to="/tags" isActive={active("/tags")}>
                  Tags
                </SideNavMenuItem>
              ) : null}
              {canView(me, RESOURCES.contacts) ? (
                <SideNavMenuItem as={NavLink} to="/settings/web-tracking" isActive={active("/settings/web-tracking")}>
                  Website tracking
                </SideNavMenuItem>
              ) : null}
              {canView(me, RESOURCES.settings) ? (
                <SideNavMenuItem
                  as={NavLink}
                  to="/settings/data-retention"
                  isActive={active("/settings/data-retention")}
                >
                  Data retention
                </SideNavMenuItem>
              ) : null}
            </SideNavMenu>
          ) : null}
          <SideNavDivider />
          {showAdmin ? (
            <SideNavMenu title="Administration" defaultExpanded isActive={active("/admin")}>
              {canView(me, RESOURCES.users) ? (
                <SideNavMenuItem as={NavLink} to="/admin/users" isActive={active("/admin/users")}>
                  Users
                </SideNavMenuItem>
              ) : null}
              {canView(me, RESOURCES.roles) ? (
                <SideNavMenuItem as={NavLink} to="/admin/roles" isActive={active("/admin/roles")}>
                  Roles
                </SideNavMenuItem>
              ) : null}
              <SideNavMenuItem as={NavLink} to="/admin/tokens" isActive={active("/admin/tokens")}>
                API tokens
              </SideNavMenuItem>
            </SideNavMenu>
          ) : null}
        </SideNavItems>
      </SideNav>
      <main id="main-content" className="trellis-content" tabIndex={-1}>
        <Suspense fallback={<PageLoading />}>
          <Outlet />
        </Suspense>
      </main>
    </>
  );
}
