import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router-dom";
import { ApiProblem } from "./api/problem";
import { AuthProvider, ME_KEY, useAuth } from "./auth/AuthContext";
import { AppShell } from "./components/AppShell";
import { PageLoading } from "./components/common";
import { ToastProvider } from "./components/Toasts";
import { CampaignBuilderPage } from "./campaigns/builder/CampaignBuilderPage";
import { ImportCampaignsPage } from "./portability/ImportCampaignsPage";
import { CampaignPage } from "./campaigns/views/CampaignPage";
import { CampaignsPage } from "./campaigns/views/CampaignsPage";
import { BroadcastEditorPage } from "./broadcasts/BroadcastEditorPage";
import { BroadcastPage } from "./broadcasts/BroadcastPage";
import { BroadcastsPage } from "./broadcasts/BroadcastsPage";
import { EmailEditorPage } from "./emails/EmailEditorPage";
import { EmailsPage } from "./emails/EmailsPage";
import { FormEditorPage } from "./forms/FormEditorPage";
import { FormResultsPage } from "./forms/FormResultsPage";
import { FormsPage } from "./forms/FormsPage";
import { AssetsPage } from "./assets/AssetsPage";
import { LandingPageEditorPage } from "./landing-pages/LandingPageEditorPage";
import { LandingPagesPage } from "./landing-pages/LandingPagesPage";
import { SiteTrackingPage } from "./site-tracking/SiteTrackingPage";
import { OutboxMessagePage, OutboxPage } from "./emails/OutboxPage";
import { AuditLogPage } from "./audit-log/AuditLogPage";
import { DashboardPage } from "./dashboard/DashboardPage";
import { LoginPage } from "./auth/LoginPage";
import { NotFoundPage } from "./components/NotFoundPage";
import { ProjectDetailPage } from "./projects/ProjectDetailPage";
import { ProjectsPage } from "./projects/ProjectsPage";
import { RolesPage } from "./users/RolesPage";
import { DataRetentionPage } from "./privacy/DataRetentionPage";
import { SettingsPage } from "./settings/SettingsPage";
import { SetupPage } from "./auth/SetupPage";
import { TokensPage } from "./users/TokensPage";
import { UsersPage } from "./users/UsersPage";
import { CompaniesPage, CompanyDetailPage } from "./companies/CompaniesPage";
import { ContactDetailPage } from "./contacts/ContactDetailPage";
import { ContactsPage } from "./contacts/ContactsPage";
import { ImportDetailPage, ImportPage } from "./contacts/ImportPage";
import { FieldsPage } from "./fields/FieldsPage";
import { SegmentEditorPage } from "./segments/SegmentEditorPage";
import { SegmentsPage } from "./segments/SegmentsPage";
import { StagesPage } from "./stages/StagesPage";
import { TagsPage } from "./tags/TagsPage";

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

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <ToastProvider>
          <AuthProvider>
            <AppRoutes />
          </AuthProvider>
        </ToastProvider>
      </BrowserRouter>
    </QueryClientProvider>
  );
}
