"""ofsted-ratings: crawl, download, parse, load, detect changes and alert on Ofsted's
inspections of English councils' children's services. Plain Python; Airflow only schedules it."""
