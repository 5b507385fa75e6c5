import {
  Button,
  Header,
  HeaderGlobalAction,
  HeaderGlobalBar,
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
import { Dashboard, Enterprise, Folders, Group, Policy, Settings, UserAvatar, UserMultiple } from "@carbon/icons-react";
import { useEffect, useRef, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { useAuth } from "../auth/AuthContext";
import { can, canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { useToast } from "./Toasts";

export function AppShell() {
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const { notify } = useToast();
  const [userMenuOpen, setUserMenuOpen] = useState(false);
  const panelRef = useRef<HTMLDivElement>(null);

  useEffect(() => setUserMenuOpen(false), [location.pathname]);
  useEffect(() => {
    if (!userMenuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setUserMenuOpen(false);
    };
    window.addEventListener("keydown", onKey);
    panelRef.current?.querySelector<HTMLElement>("button")?.focus();
    return () => window.removeEventListener("keydown", onKey);
  }, [userMenuOpen]);

  const path = location.pathname;
  const active = (prefix: string) => (prefix === "/" ? path === "/" : path === prefix || path.startsWith(`${prefix}/`));
  const showSettingsMenu =
    canView(me, RESOURCES.settings) || canView(me, RESOURCES.fields) || canView(me, RESOURCES.stages) || canView(me, RESOURCES.contacts);
  const settingsActive = active("/settings") || active("/stages") || active("/tags");
  // Every user has the Administration group: it holds their own API tokens.
  const showAdmin = me !== null;

  async function onLogout() {
    await logout().catch(() => notify("error", "Logout failed"));
    navigate("/login", { replace: true });
  }

  return (
    <>
      <Header aria-label="Trellis">
        <SkipToContent href="#main-content" />
        <HeaderName as={Link} to="/" prefix="">
          Trellis
        </HeaderName>
        <HeaderGlobalBar>
          <HeaderGlobalAction
            aria-label={me ? `User menu for ${me.user.name || me.user.email}` : "User menu"}
            aria-expanded={userMenuOpen}
            isActive={userMenuOpen}
            onClick={() => setUserMenuOpen((o) => !o)}
            tooltipAlignment="end"
          >
            <UserAvatar size={20} />
          </HeaderGlobalAction>
        </HeaderGlobalBar>
        <HeaderPanel expanded={userMenuOpen} aria-label="User menu" ref={panelRef}>
          {userMenuOpen && me ? (
            <div style={{ padding: "1rem", display: "flex", flexDirection: "column", gap: "0.75rem" }}>
              <div>
                <strong>{me.user.name || me.user.email}</strong>
                <div className="trellis-muted">{me.user.email}</div>
                <div className="trellis-muted">Role: {me.role.name}</div>
              </div>
              <Button kind="secondary" size="md" onClick={() => navigate("/admin/tokens")}>
                My API tokens
              </Button>
              <Button kind="primary" size="md" onClick={onLogout}>
                Log out
              </Button>
            </div>
          ) : null}
        </HeaderPanel>
      </Header>
      <SideNav aria-label="Main navigation" expanded isFixedNav isChildOfHeader={false}>
        <SideNavItems>
          <SideNavLink as={NavLink} to="/" end renderIcon={Dashboard} isActive={active("/")}>
            Dashboard
          </SideNavLink>
          {canView(me, RESOURCES.contacts) ? (
            <SideNavMenu title="Contacts" renderIcon={UserMultiple} defaultExpanded isActive={active("/contacts")}>
              <SideNavMenuItem as={NavLink} to="/contacts" end isActive={path === "/contacts" || /^\/contacts\/\d+/.test(path)}>
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
            <SideNavMenu title="Settings" renderIcon={Settings} defaultExpanded={settingsActive} isActive={settingsActive}>
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
        <Outlet />
      </main>
    </>
  );
}
