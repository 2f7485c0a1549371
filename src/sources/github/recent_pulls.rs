//! The pull requests previews are joined to: one list of every state, most recently
//! updated first, read once per poll of `main`'s health. It is conditional like every read,
//! so an unchanged list costs a free `304`; and it stops after [`PAGES`] pages, so a
//! repository's long history costs no more than that.

use super::client::GithubClient;
use super::wire::PullRequest;
use crate::engine::preview_links::ListedPull;
use crate::engine::previews::{self, PrState};
use crate::sources::SourceError;

/// Pages of 100 read per poll: the 300 pull requests updated last. A preview of an older
/// one shows no pull request.
pub const PAGES: usize = 3;

/// The URL of the list's first page.
pub fn first_page(client: &GithubClient) -> String {
    format!(
        "{}/pulls?state=all&sort=updated&direction=desc&per_page=100",
        client.repo()
    )
}

/// Pull requests of every state, most recently updated first.
pub async fn read(client: &GithubClient) -> Result<Vec<ListedPull>, SourceError> {
    let url = first_page(client);
    let pages: Vec<Vec<PullRequest>> = client
        .get_some_pages(&url, PAGES)
        .await?
        .ok_or_else(|| client.refusal("GET", &url, 404, "Not Found"))?;
    Ok(pages.into_iter().flatten().map(listed).collect())
}

/// GitHub's pull request as a preview shows it: a closed one with `merged_at` was merged.
pub fn listed(p: PullRequest) -> ListedPull {
    let state = match (p.state.as_deref(), p.merged_at) {
        (_, Some(_)) => PrState::Merged,
        (Some("closed"), None) => PrState::Closed,
        _ => PrState::Open,
    };
    ListedPull {
        pr: previews::PullRequest {
            number: p.number,
            title: crate::text::sanitize_line(&p.title).into_owned(),
            author: p.user.map(|u| u.login).unwrap_or_default(),
            state,
        },
        body: p.body.unwrap_or_default(),
    }
}
