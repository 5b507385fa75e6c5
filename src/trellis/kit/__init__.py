"""Shared building blocks of the domains (Polar's ``kit``): the entity repository with the
owner/visibility filter, pagination and text search built in, and the one audited path that
every create, update and delete of a user-managed entity takes."""
