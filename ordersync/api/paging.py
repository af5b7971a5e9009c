"""The pagination every list of the API shares (flask-smorest's page and page_size)."""

from ordersync.web.extensions import db


def one_page(query, count, pagination):
    """Count the items for the pagination header; the query of the asked page, or None past the end.

    None also keeps absurd page numbers out of OFFSET.
    """
    pagination.item_count = db.session.scalar(count)
    if pagination.first_item >= pagination.item_count:
        return None
    return query.limit(pagination.page_size).offset(pagination.first_item)
