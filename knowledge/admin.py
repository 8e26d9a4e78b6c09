from django.contrib import admin

from knowledge.models import Document, KnowledgeBase


@admin.register(KnowledgeBase)
class KnowledgeBaseAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "workspace"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "knowledge_base", "status", "chunk_count", "updated_at"]
    list_filter = ["status", "knowledge_base"]
    readonly_fields = ["content_hash", "size_bytes", "chunk_count", "page_count", "indexed_at"]
