import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter, Navigate, Route, RouterProvider, Routes, useLocation } from "react-router-dom";
import { ApiProblem } from "./api/problem";
import { AuthProvider, ME_KEY, useAuth } from "./auth/AuthContext";
import { AppShell } from "./components/AppShell";
import { PageLoading } from "./components/common";
import { lazyPage } from "./lib/lazyPage";
import { ToastProvider } from "./components/Toasts";
import { DashboardPage } from "./dashboard/DashboardPage";
import { LoginPage } from "./auth/LoginPage";
import { NotFoundPage } from "./components/NotFoundPage";
import { SetupPage } from "./auth/SetupPage";

function makeQueryClient(): QueryClient {
  // A 401 anywhere means the session ended: forget the user, and the guard sends them to /login.
  const onError = (error: unknown) => {
    if (error instanceof ApiProblem && error.status === 401) client.setQueryData(ME_KEY, null);
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        retry: (count, error) => !(error instanceof ApiProblem && error.status < 500) && count < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
  return client;
}

const queryClient = makeQueryClient();

// Every page but the first ones a visitor sees is its own chunk: the dashboard does not ship
// React Flow, GrapesJS or the pages it does not show.
const CampaignBuilderPage = lazyPage(() => import("./campaigns/builder/CampaignBuilderPage"), "CampaignBuilderPage");
const ImportCampaignsPage = lazyPage(() => import("./portability/ImportCampaignsPage"), "ImportCampaignsPage");
const CampaignPage = lazyPage(() => import("./campaigns/views/CampaignPage"), "CampaignPage");
const CampaignsPage = lazyPage(() => import("./campaigns/views/CampaignsPage"), "CampaignsPage");
const BroadcastEditorPage = lazyPage(() => import("./broadcasts/BroadcastEditorPage"), "BroadcastEditorPage");
const BroadcastPage = lazyPage(() => import("./broadcasts/BroadcastPage"), "BroadcastPage");
const BroadcastsPage = lazyPage(() => import("./broadcasts/BroadcastsPage"), "BroadcastsPage");
const EmailEditorPage = lazyPage(() => import("./emails/EmailEditorPage"), "EmailEditorPage");
const EmailsPage = lazyPage(() => import("./emails/EmailsPage"), "EmailsPage");
const FormEditorPage = lazyPage(() => import("./forms/FormEditorPage"), "FormEditorPage");
const FormResultsPage = lazyPage(() => import("./forms/FormResultsPage"), "FormResultsPage");
const FormsPage = lazyPage(() => import("./forms/FormsPage"), "FormsPage");
const AssetsPage = lazyPage(() => import("./assets/AssetsPage"), "AssetsPage");
const LandingPageEditorPage = lazyPage(() => import("./landing-pages/LandingPageEditorPage"), "LandingPageEditorPage");
const LandingPagesPage = lazyPage(() => import("./landing-pages/LandingPagesPage"), "LandingPagesPage");
const SiteTrackingPage = lazyPage(() => import("./site-tracking/SiteTrackingPage"), "SiteTrackingPage");
const OutboxMessagePage = lazyPage(() => import("./emails/OutboxPage"), "OutboxMessagePage");
const OutboxPage = lazyPage(() => import("./emails/OutboxPage"), "OutboxPage");
const AuditLogPage = lazyPage(() => import("./audit-log/AuditLogPage"), "AuditLogPage");
const ProjectDetailPage = lazyPage(() => import("./projects/ProjectDetailPage"), "ProjectDetailPage");
const ProjectsPage = lazyPage(() => import("./projects/ProjectsPage"), "ProjectsPage");
const RolesPage = lazyPage(() => import("./users/RolesPage"), "RolesPage");
const SettingsPage = lazyPage(() => import("./settings/SettingsPage"), "SettingsPage");
const TokensPage = lazyPage(() => import("./users/TokensPage"), "TokensPage");
const UsersPage = lazyPage(() => import("./users/UsersPage"), "UsersPage");
const CompaniesPage = lazyPage(() => import("./companies/CompaniesPage"), "CompaniesPage");
const CompanyDetailPage = lazyPage(() => import("./companies/CompaniesPage"), "CompanyDetailPage");
const ContactDetailPage = lazyPage(() => import("./contacts/ContactDetailPage"), "ContactDetailPage");
const ContactsPage = lazyPage(() => import("./contacts/ContactsPage"), "ContactsPage");
const ImportDetailPage = lazyPage(() => import("./contacts/ImportPage"), "ImportDetailPage");
const ImportPage = lazyPage(() => import("./contacts/ImportPage"), "ImportPage");
const FieldsPage = lazyPage(() => import("./fields/FieldsPage"), "FieldsPage");
const SegmentEditorPage = lazyPage(() => import("./segments/SegmentEditorPage"), "SegmentEditorPage");
const SegmentsPage = lazyPage(() => import("./segments/SegmentsPage"), "SegmentsPage");
const StagesPage = lazyPage(() => import("./stages/StagesPage"), "StagesPage");
const TagsPage = lazyPage(() => import("./tags/TagsPage"), "TagsPage");
const DataRetentionPage = lazyPage(() => import("./privacy/DataRetentionPage"), "DataRetentionPage");

function RequireAuth({ children }: { children: React.ReactNode }) {
  const { me, needsSetup, loading } = useAuth();
  const location = useLocation();
  if (loading) return <PageLoading />;
  if (needsSetup) return <Navigate to="/setup" replace />;
  if (!me) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <>{children}</>;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/setup" element={<SetupPage />} />
      <Route
        element={
          <RequireAuth>
            <AppShell />
          </RequireAuth>
        }
      >
        <Route index element={<DashboardPage />} />
        <Route path="projects" element={<ProjectsPage />} />
        <Route path="projects/:projectId" element={<ProjectDetailPage />} />
        <Route path="contacts" element={<ContactsPage />} />
        <Route path="contacts/import" element={<ImportPage />} />
        <Route path="contacts/import/:importId" element={<ImportDetailPage />} />
        <Route path="contacts/:contactId" element={<ContactDetailPage />} />
        <Route path="segments" element={<SegmentsPage />} />
        <Route path="segments/new" element={<SegmentEditorPage />} />
        <Route path="segments/:segmentId" element={<SegmentEditorPage />} />
        <Route path="campaigns" element={<CampaignsPage />} />
        <Route path="campaigns/new" element={<CampaignBuilderPage />} />
        <Route path="campaigns/import" element={<ImportCampaignsPage />} />
        <Route path="campaigns/:campaignId" element={<CampaignPage />} />
        <Route path="campaigns/:campaignId/edit" element={<CampaignBuilderPage />} />
        <Route path="emails" element={<EmailsPage />} />
        <Route path="emails/new" element={<EmailEditorPage />} />
        <Route path="emails/:emailId" element={<EmailEditorPage />} />
        <Route path="broadcasts" element={<BroadcastsPage />} />
        <Route path="broadcasts/new" element={<BroadcastEditorPage />} />
        <Route path="broadcasts/:broadcastId" element={<BroadcastPage />} />
        <Route path="broadcasts/:broadcastId/edit" element={<BroadcastEditorPage />} />
        <Route path="forms" element={<FormsPage />} />
        <Route path="forms/new" element={<FormEditorPage />} />
        <Route path="forms/:formId" element={<FormEditorPage />} />
        <Route path="forms/:formId/results" element={<FormResultsPage />} />
        <Route path="landing-pages" element={<LandingPagesPage />} />
        <Route path="landing-pages/new" element={<LandingPageEditorPage />} />
        <Route path="landing-pages/:pageId" element={<LandingPageEditorPage />} />
        <Route path="assets" element={<AssetsPage />} />
        <Route path="outbox" element={<OutboxPage />} />
        <Route path="outbox/:messageId" element={<OutboxMessagePage />} />
        <Route path="companies" element={<CompaniesPage />} />
        <Route path="companies/:companyId" element={<CompanyDetailPage />} />
        <Route path="settings/fields" element={<FieldsPage />} />
        <Route path="settings/web-tracking" element={<SiteTrackingPage />} />
        <Route path="settings/data-retention" element={<DataRetentionPage />} />
        <Route path="stages" element={<StagesPage />} />
        <Route path="tags" element={<TagsPage />} />
        <Route path="audit-log" element={<AuditLogPage />} />
        <Route path="settings" element={<SettingsPage />} />
        <Route path="admin/users" element={<UsersPage />} />
        <Route path="admin/roles" element={<RolesPage />} />
        <Route path="admin/tokens" element={<TokensPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

function Root() {
  return (
    <ToastProvider>
      <AuthProvider>
        <AppRoutes />
      </AuthProvider>
    </ToastProvider>
  );
}

// A data router, for its navigation blocker: pages with unsaved changes ask before leaving.
const router = createBrowserRouter([{ path: "*", element: <Root /> }]);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
