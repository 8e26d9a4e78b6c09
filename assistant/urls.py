from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assistant.views import home, knowledge

workspace_patterns = [
    path("knowledge/", knowledge.knowledge_bases, name="knowledge_bases"),
    path(
        "knowledge/<slug:knowledge_base_slug>/",
        knowledge.knowledge_base_detail,
        name="knowledge_base",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/",
        knowledge.document_table,
        name="document_table",
    ),
    path("knowledge/<slug:knowledge_base_slug>/upload/", knowledge.upload, name="document_upload"),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/<int:document_id>/delete/",
        knowledge.document_remove,
        name="document_delete",
    ),
    path(
        "knowledge/<slug:knowledge_base_slug>/documents/<int:document_id>/reindex/",
        knowledge.document_reindex_request,
        name="document_reindex",
    ),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("w/<slug:workspace_slug>/", include(workspace_patterns)),
    path("admin/", admin.site.urls),
]
