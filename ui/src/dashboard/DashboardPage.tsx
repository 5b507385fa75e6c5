import { Link } from "react-router-dom";
import { useAuth } from "../auth/AuthContext";
import { PageHeader } from "../components/common";
import { canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";

export function DashboardPage() {
  const { me } = useAuth();
  const name = me?.user.name || me?.user.email || "";
  const tiles = [
    {
      to: "/projects",
      title: "Projects",
      text: "Group campaigns with their emails, pages and assets.",
      show: canView(me, RESOURCES.projects),
    },
    { to: "/audit-log", title: "Audit log", text: "Who changed what, and when.", show: canView(me, RESOURCES.audit) },
    {
      to: "/admin/users",
      title: "Users",
      text: "People who can sign in, and their roles.",
      show: canView(me, RESOURCES.users),
    },
    { to: "/admin/tokens", title: "API tokens", text: "Credentials for scripts and integrations.", show: true },
    {
      to: "/settings",
      title: "Settings",
      text: "Instance name, defaults and system information.",
      show: canView(me, RESOURCES.settings),
    },
  ];
  return (
    <>
      <PageHeader
        title={`Welcome, ${name}`}
        description="Trellis runs your marketing automation on your own infrastructure."
      />
      <nav aria-label="Shortcuts" className="trellis-tiles">
        {tiles
          .filter((t) => t.show)
          .map((t) => (
            <Link key={t.to} to={t.to} className="cds--tile cds--tile--clickable">
              <h2 className="trellis-h3">{t.title}</h2>
              <p className="trellis-muted">{t.text}</p>
            </Link>
          ))}
      </nav>
    </>
  );
}
